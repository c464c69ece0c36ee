// Fields that belong to one choice (an SMS template's sender, an email's subject, a weekly schedule's weekdays) are
// shown only while that choice is made: each carries data-shown-if="<field name>:<value>,<value>"; its .field
// wrapper is hidden otherwise. The server reads only the fields of the choice made. A chooser comes before the
// fields it shows, so one pass in the page's order settles choices within choices.
(function () {
  function chosenValue(form, name) {
    const inputs = form.querySelectorAll(`[name="${name}"]`);
    // A choice that is itself hidden (the repeat of a one-time campaign) chooses nothing.
    if (inputs.length && (inputs[0].closest(".field") || {}).hidden) return "";
    for (const input of inputs) {
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) return input.value;
      } else {
        return input.value;
      }
    }
    return "";
  }
  function refresh(form) {
    for (const field of form.querySelectorAll("[data-shown-if]")) {
      const [chooser, values] = field.dataset.shownIf.split(":");
      const wrapper = field.closest(".field") || field;
      wrapper.hidden = !values.split(",").includes(chosenValue(form, chooser));
    }
  }
  for (const form of document.querySelectorAll("form")) {
    if (!form.querySelector("[data-shown-if]")) continue;
    refresh(form);
    form.addEventListener("change", () => refresh(form));
  }
})();
