/* Loaded after RequireJS and before the widget manager (embed-amd.js), on pages with
 * widgets. embed-amd.js finds its own font and icon files relative to the RequireJS URL
 * of its module "@jupyter-widgets/html-manager/dist/libembed-amd"; map that module path
 * to the folder embed-amd.js is served from, so those files load from this site.
 */
(function () {
  var here = document.currentScript && document.currentScript.src;
  var widgets = here ? new URL("widgets", here).href : "_static/widgets";
  window.require.config({
    paths: { "@jupyter-widgets/html-manager/dist": widgets },
  });
})();

/* The build adds, after each panel, a static copy of the tables its saved state holds
 * (class stsnb-static-panel), for readers without JavaScript. Once the live widget has
 * rendered in the same cell, hide the copy so the table is shown once.
 */
(function () {
  function hideCopies() {
    document.querySelectorAll(".stsnb-static-panel").forEach(function (copy) {
      var cell = copy.closest(".cell_output") || copy.parentElement;
      if (cell && cell.querySelector(".jupyter-widgets, .widget-box, .lm-Widget")) {
        var box = copy.closest(".output") || copy;
        box.style.display = "none";
      }
    });
  }
  new MutationObserver(hideCopies).observe(document.documentElement, { childList: true, subtree: true });
  window.addEventListener("load", hideCopies);
})();
