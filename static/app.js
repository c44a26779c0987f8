// Progressive enhancement only: every action also works without this file.
(function () {
  "use strict";
  // Vote without reloading the page; fall back to the normal form post on any failure.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains("vote-form") || !window.fetch) return;
    ev.preventDefault();
    fetch(form.action, {
      method: "POST",
      headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(new FormData(form)).toString(),
      credentials: "same-origin"
    }).then(function (res) {
      if (!res.ok) throw new Error("vote failed");
      return res.json();
    }).then(function (out) {
      var box = form.closest(".votes");
      box.querySelector(".score").textContent = out.score;
      box.querySelectorAll(".vote-form").forEach(function (f) {
        var button = f.querySelector("button");
        var up = button.classList.contains("up");
        var mine = up ? 1 : -1;
        var on = out.value === mine;
        button.classList.toggle("on", on);
        button.setAttribute("aria-pressed", on ? "true" : "false");
        f.querySelector('input[name="value"]').value = on ? "0" : String(mine);
      });
    }).catch(function () { form.submit(); });
  });

  // Keep drafts of questions and answers in this browser until they are posted.
  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    var key = "nave-draft:" + form.getAttribute("data-draft");
    var area = form.querySelector("textarea");
    if (!area || !window.localStorage) return;
    if (!area.value && localStorage.getItem(key)) area.value = localStorage.getItem(key);
    area.addEventListener("input", function () { localStorage.setItem(key, area.value); });
    form.addEventListener("submit", function () { sessionStorage.setItem("nave-posted", key); });
  });
  var posted = window.sessionStorage && sessionStorage.getItem("nave-posted");
  if (posted && !document.querySelector(".field-error, .form-error")) {
    localStorage.removeItem(posted);
    sessionStorage.removeItem("nave-posted");
  }
})();
