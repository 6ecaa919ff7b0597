// Enter sends, Shift+Enter adds a line (decided before Blazor sees the key).
document.addEventListener("keydown", (e) => {
  if (e.target.id === "composer-input" && e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    e.target.form.requestSubmit();
  }
});
// A search hit's message, brought into view.
window.chatScrollTo = (selector) => document.querySelector(selector)?.scrollIntoView({ block: "center" });
