// The site menu on a phone: the header's Menu button shows and hides the navigation, its aria-expanded saying which
// (site.css hides the navigation of a header marked "menu-ready" while it is "false"); Escape closes the menu and
// puts the focus back on the button. Without this script the navigation is simply always shown.
const menuButton = document.querySelector(".site-header .menu-button");
if (menuButton) {
  const header = menuButton.closest(".site-header");
  const setOpen = (open) => menuButton.setAttribute("aria-expanded", open ? "true" : "false");
  header.classList.add("menu-ready");
  menuButton.addEventListener("click", () => setOpen(menuButton.getAttribute("aria-expanded") !== "true"));
  header.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menuButton.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      menuButton.focus();
    }
  });
}
