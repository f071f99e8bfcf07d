// Coffer dashboard: progressive enhancements only; every page works without this file.
"use strict";
document.addEventListener("click", function (ev) {
  var btn = ev.target.closest("[data-copy]");
  if (!btn) return;
  var cell = document.getElementById(btn.getAttribute("data-copy"));
  var value = cell && cell.querySelector("[data-value]");
  if (!value || !navigator.clipboard) return;
  navigator.clipboard.writeText(value.textContent).then(function () {
    btn.textContent = "Copied";
    setTimeout(function () { btn.textContent = "Copy"; }, 1500);
  });
});
// After htmx swaps a cell (reveal, hide, edit), keep the keyboard where the user was: on the
// first control of the new content.
document.addEventListener("htmx:afterSwap", function (ev) {
  var f = ev.detail.target.querySelector("textarea, input:not([type=hidden]), button, a[href]");
  if (f) f.focus();
});
