// Worker pages: lists that follow each other (county → pickup points, destination →
// employers). Loaded from a file: the CSP forbids inline code.
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

  document.addEventListener("DOMContentLoaded", function () {
    follow("f-county", "f-pickup_point");
    follow("f-destination", "f-employer");
  });
})();
