// A form with data-confirm="question" is sent only once the question is answered OK
// (deleting a campaign, rotating a webhook's secret, revoking an API key).
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
