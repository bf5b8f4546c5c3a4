// The main menu on a phone: the Menu button shows and hides the links and the account (app.css hides
// them on narrow screens once this has run; without a script they wrap under the brand instead).
// Loaded right after the top bar, not deferred, so that the menu is folded before the first paint.
(function () {
  "use strict";
  var bar = document.querySelector(".topbar");
  var button = bar && bar.querySelector(".menu-toggle");
  if (!button) return;

  function setOpen(open) {
    bar.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  button.addEventListener("click", function () {
    setOpen(!bar.classList.contains("menu-open"));
  });
  bar.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && bar.classList.contains("menu-open")) {
      setOpen(false);
      button.focus();
    }
  });
  bar.classList.add("menu-ready");
})();
