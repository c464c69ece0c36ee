// The template form's SMS length follows the body as it is typed: characters, encoding (GSM-7 / UCS-2) and
// segments of the fixed text and of a message with every variable at its limit, counted as
// campaigns/dlt/sms_length.py counts them; a warning above the page's number of segments.
(function () {
  const box = document.getElementById("sms-length");
  const body = box && document.getElementById(box.dataset.body);
  if (!box || !body) return;
  const channel = document.getElementById("id_channel");
  const variableMax = parseInt(box.dataset.variableMax, 10);
  const warnAbove = parseInt(box.dataset.warnAbove, 10);
  const basic = new Set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
  );
  const extension = new Set("\f^{}\\[~]|€");
  const tag = /\{#(var|numeric|alphanumeric|url|urlott|cbn|email)#\}/g;

  function measure(text) {
    const chars = Array.from(text);
    const gsm = chars.every((c) => basic.has(c) || extension.has(c));
    const widths = chars.map((c) => (gsm ? (extension.has(c) ? 2 : 1) : c.codePointAt(0) > 0xffff ? 2 : 1));
    const units = widths.reduce((sum, w) => sum + w, 0);
    const single = gsm ? 160 : 70;
    const part = gsm ? 153 : 67;
    let segments = 0;
    if (units > 0 && units <= single) segments = 1;
    else if (units > single) {
      // never an escape pair or a surrogate pair across two parts
      let used = 0;
      segments = 1;
      for (const w of widths) {
        if (used + w > part) { segments += 1; used = 0; }
        used += w;
      }
    }
    return {characters: chars.length, encoding: gsm ? "GSM-7" : "UCS-2", units: units, segments: segments};
  }

  function show(row, figures) {
    for (const name of ["characters", "encoding", "units", "segments"]) {
      box.querySelector(`[data-row="${row}"] [data-length="${name}"]`).textContent = figures[name];
    }
  }

  function refresh() {
    box.hidden = channel !== null && channel.value === "email";
    const fixed = measure(body.value.replace(tag, ""));
    const atLimit = measure(body.value.replace(tag, (_, kind) => "x".repeat(kind === "alphanumeric" ? 40 : variableMax)));
    show("fixed", fixed);
    show("at_limit", atLimit);
    const warning = document.getElementById("sms-length-warning");
    warning.hidden = fixed.segments <= warnAbove;
    warning.querySelector('[data-length="warn-segments"]').textContent = fixed.segments;
  }

  body.addEventListener("input", refresh);
  if (channel) channel.addEventListener("change", refresh);
  refresh();
})();
