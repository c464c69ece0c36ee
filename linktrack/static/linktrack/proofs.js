// The preview's "Send a test": while a test is still being handed to the gateway, its rows follow what becomes of it
// (for two minutes).
(function () {
  const waiting = "tr[data-status=queued], tr[data-status=submitting]";
  let left = 40;
  function follow() {
    const list = document.getElementById("proof-list");
    if (!list || !list.querySelector(waiting) || left-- <= 0) return;
    setTimeout(() => {
      fetch(window.location.pathname, {credentials: "same-origin"})
        .then((response) => response.text())
        .then((html) => {
          const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("proof-list");
          if (fresh) list.replaceWith(fresh);
          follow();
        });
    }, 3000);
  }
  follow();
})();
