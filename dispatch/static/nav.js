// On a narrow screen the top bar folds its navigation behind a menu button.
(function () {
  "use strict";
  var button = document.getElementById("menu-button");
  var bar = button && button.closest(".topbar");
  if (!bar) { return; }
  bar.classList.add("has-menu");  // without this script the menu simply wraps, always open
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = bar.classList.toggle("menu-open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
}());
