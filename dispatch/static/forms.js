// Every page: a second click on a slow submit (run the planner, publish, confirm an import,
// withdraw) must not send a form marked data-submit-once again. The server refuses a second
// publish or import anyway; this spares the person the refusal.
(function () {
  "use strict";

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
    Array.prototype.forEach.call(document.querySelectorAll("form[data-submit-once]"), submitOnce);
  });
})();
