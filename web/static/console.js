// Progressive enhancement only: every page works without this file.
// Copy buttons copy a draft's text to the clipboard.
document.querySelectorAll("button.copy[data-copy]").forEach(function (b) {
  var t = document.getElementById(b.getAttribute("data-copy"));
  if (!t || !navigator.clipboard) return;
  b.hidden = false;
  var label = b.textContent;
  b.addEventListener("click", function () {
    navigator.clipboard.writeText(t.value).then(function () {
      b.textContent = "✓";
      setTimeout(function () { b.textContent = label; }, 1500);
    });
  });
});
