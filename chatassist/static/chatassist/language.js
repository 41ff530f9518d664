// The language menu in the admin header: choosing a language sends the form at once.
// (A file, not an onchange attribute: the Content-Security-Policy allows no inline script.
// Without JavaScript the menu's "Go" button sends it.)
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const menu = document.getElementById("ca-language");
  if (menu) menu.addEventListener("change", () => menu.form.submit());
});
