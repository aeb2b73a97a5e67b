// A fresh browser profile has no stored colour mode, and the theme then logs a console error
// ("Got invalid theme mode"). Start in light mode; the theme's switch button still works.
if (!document.documentElement.dataset.mode) {
  document.documentElement.dataset.mode = "light";
  document.documentElement.dataset.theme = "light";
}
