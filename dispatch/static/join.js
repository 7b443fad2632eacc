// /join: "Get code" asks for the SMS code without leaving the page and counts down before
// the next request. Without this file the button posts the whole form and the page comes
// back with what was typed. The lists that follow each other (county → pickup points,
// destination → employers) are workers.js, as on the coordinator's form. Loaded from a file:
// the CSP forbids inline code.
(function () {
  "use strict";

  function countdown(button, seconds, label) {
    var left = seconds;
    var wait = button.getAttribute("data-wait");
    button.disabled = true;
    var tick = function () {
      if (left <= 0) { button.disabled = false; button.textContent = label; return; }
      button.textContent = wait.replace("{s}", String(left));
      left -= 1;
      window.setTimeout(tick, 1000);
    };
    tick();
  }

  function askForCode(button, event) {
    event.preventDefault();
    var form = button.form;
    var status = document.getElementById("code-status");
    var label = button.textContent;
    var body = new FormData();
    body.append("phone", form.elements.phone.value);
    body.append("csrf_token", form.elements.csrf_token.value);
    button.disabled = true;
    fetch(button.getAttribute("formaction"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (answer) {
      status.textContent = answer.data.message || "";
      status.className = answer.ok ? "hint" : "field-error";
      // sent: the server's wait before the next code (VERIFY_CODE_INTERVAL_S); refused: its own
      var wait = answer.ok ? answer.data.wait || 0 : Math.min(answer.data.retry_after || 0, 120);
      if (wait > 0) { countdown(button, wait, label); } else { button.disabled = false; }
      if (answer.ok) { form.elements.code.focus(); }
    }).catch(function () {
      status.textContent = button.getAttribute("data-offline");
      status.className = "field-error";
      button.disabled = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("send-code");
    if (button && window.fetch && window.FormData) {
      button.addEventListener("click", function (event) { askForCode(button, event); });
    }
  });
})();
