// The preview while its plan is read on a worker: the count of records read follows the worker,
// and the page reloads once the plan is ready (or failed) to show it. Without JS, "Refresh" works.
(() => {
  const box = document.querySelector("[data-plan-poll]");
  if (!box) return;
  const count = box.querySelector("[data-plan-read]");
  const notice = box.querySelector("[data-plan-notice]");
  const url = box.dataset.planPoll;
  const every = 1000;
  async function poll() {
    try {
      const answer = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (answer.ok) {
        const plan = await answer.json();
        if (plan.status !== "reading") {
          window.location.reload();
          return;
        }
        count.textContent = plan.read.toLocaleString("en-US");
        notice.textContent = plan.notice || "";
        notice.hidden = !plan.notice;
      }
    } catch (error) {
      // The network blinked: try again at the next tick.
    }
    setTimeout(poll, every);
  }
  setTimeout(poll, every);
})();
