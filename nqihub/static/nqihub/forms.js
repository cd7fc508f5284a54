/* Small behaviours of the site's forms, wired by data- attributes (the Content-Security-Policy
   allows no inline event handler):
   - <select data-autosubmit> sends its form when the choice changes (language, acting organisation);
   - <input type="checkbox" data-select-all="NAME"> ticks or clears every checkbox NAME of its form.
   Plain JavaScript, no libraries. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!el || !el.form) {
      return;
    }
    if (el.hasAttribute("data-autosubmit")) {
      el.form.submit();
      return;
    }
    var name = el.getAttribute("data-select-all");
    if (name) {
      var boxes = el.form.querySelectorAll("input[type=checkbox]");
      for (var i = 0; i < boxes.length; i++) {
        if (boxes[i].name === name) {
          boxes[i].checked = el.checked;
        }
      }
    }
  });
})();
