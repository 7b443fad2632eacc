// Worker pages: lists that follow each other (county → pickup points, destination →
// employers) and forms that must be sent once. Loaded from a file: the CSP forbids inline code.
(function () {
  "use strict";

  // Show only the options whose data-site matches `value`; keep the blank option.
  function narrow(select, value) {
    if (!select) { return; }
    Array.prototype.forEach.call(select.options, function (option) {
      var site = option.getAttribute("data-site");
      if (site === null) { return; }
      var fits = value !== "" && site === value;
      option.hidden = !fits;
      option.disabled = !fits;
      if (!fits && option.selected) { select.value = ""; }
    });
  }

  function follow(leaderId, followerId) {
    var leader = document.getElementById(leaderId);
    var follower = document.getElementById(followerId);
    if (!leader || !follower) { return; }
    var update = function () { narrow(follower, leader.value); };
    leader.addEventListener("change", update);
    update();
  }

  // A second click on a slow submit must not send the form again.
  function submitOnce(form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent") === "1") { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (b) {
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    follow("f-county", "f-pickup_point");
    follow("f-destination", "f-employer");
    Array.prototype.forEach.call(document.querySelectorAll("form[data-submit-once]"), submitOnce);
  });
})();
