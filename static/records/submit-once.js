// Forms marked data-submit-once (Confirm a copy, job actions) disable their buttons once sent,
// so a second click can't post the same confirmation again (the server also answers a repeat
// with the job the first one created).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-submit-once")) return;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  form.setAttribute("aria-busy", "true");
  // After this event: disabling now would drop the clicked button's name/value from the post.
  setTimeout(() => form.querySelectorAll("button[type=submit], input[type=submit]").forEach((b) => { b.disabled = true; }), 0);
});
