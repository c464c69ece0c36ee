// A page following work in progress (templates/_live_updates.html) reloads itself every data-reload-seconds seconds
// until the reader presses "Stop updating"; without this script it stays as it is, and reloading it shows the
// latest figures.
const liveUpdates = document.querySelector("[data-reload-seconds]");
if (liveUpdates) {
  const timer = window.setTimeout(() => window.location.reload(), Number(liveUpdates.dataset.reloadSeconds) * 1000);
  const stop = liveUpdates.querySelector("[data-stop-updates]");
  liveUpdates.hidden = false;
  stop.addEventListener("click", () => {
    window.clearTimeout(timer);
    liveUpdates.querySelector("[data-live-state]").textContent = "Updates stopped: reload the page to see the latest figures.";
    liveUpdates.tabIndex = -1;
    liveUpdates.focus();
    stop.remove();
  });
}
