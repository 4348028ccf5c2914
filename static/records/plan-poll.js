// The preview while its plan is read on a worker: the count of records read follows the worker,
// and the page reloads once the plan is ready (or failed) to show it. Without JS, "Refresh" works.
(() => {
  const box = document.querySelector("[data-plan-poll]");
  if (!box) return;
  const count = box.querySelector("[data-plan-read]");
  const notice = box.querySelector("[data-plan-notice]");
  const url = box.dataset.planPoll;
  // Every second while the count moves; after each unchanged answer half as long again, up to
  // five seconds (a plan waiting for a free worker, or slow remote pages).
  const QUICK = 1000;
  const SLOWEST = 5000;
  let every = QUICK;
  let last = null;
  async function poll() {
    try {
      const answer = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (answer.ok) {
        const plan = await answer.json();
        if (plan.status !== "reading") {
          window.location.reload();
          return;
        }
        const seen = `${plan.read}|${plan.notice || ""}`;
        every = seen === last ? Math.min(every * 1.5, SLOWEST) : QUICK;
        last = seen;
        count.textContent = plan.read.toLocaleString("en-US");
        notice.textContent = plan.notice || "";
        notice.hidden = !plan.notice;
      }
    } catch (error) {
      // The network blinked: try again at the next tick.
    }
    setTimeout(poll, every);
  }
  setTimeout(poll, QUICK);
})();
