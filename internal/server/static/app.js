// tether pages: progressive enhancement only; every page works without it.
// Served from this origin with the page's CSP nonce; no inline handlers.
"use strict";
document.documentElement.dataset.js = "on";

document.addEventListener("DOMContentLoaded", function () {
  // Ask before destructive actions (forms with data-confirm).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });
  // Bring the keyboard to the first field with an error.
  var invalid = document.querySelector('[aria-invalid="true"]');
  if (invalid) {
    invalid.focus();
  }
  // Show times in the reader's own time zone.
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    if (el.title || /ago$|^just now$/.test(el.textContent)) {
      return;
    }
    var d = new Date(el.getAttribute("datetime"));
    if (!isNaN(d)) {
      el.title = el.textContent;
      el.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
  });
});
