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
