// The segment form: the number of matching customers follows the conditions as they are typed or chosen.
(function () {
  const form = document.getElementById("segment-form");
  const count = document.getElementById("live-count");
  const errors = document.getElementById("live-errors");
  if (!form || !count || !errors) return;
  let timer = null;
  function refresh() {
    const params = new URLSearchParams(new FormData(form));
    params.delete("csrfmiddlewaretoken");
    fetch(form.dataset.countUrl + "?" + params.toString(), {credentials: "same-origin"})
      .then((response) => response.json())
      .then((data) => {
        count.textContent = data.count === null ? "–" : data.count;
        errors.textContent = data.errors.join(" ");
      });
  }
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 300); });
  form.addEventListener("change", () => { clearTimeout(timer); timer = setTimeout(refresh, 100); });
})();
