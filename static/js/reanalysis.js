// Follows a reanalysis running in the background on the project page: its progress every
// two seconds, and the page again once it has ended (its result, the buttons back).
(() => {
  const status = document.getElementById("reanalysis-status");
  if (!status || status.dataset.state !== "running") return;
  const message = document.getElementById("reanalysis-message");
  const follow = async () => {
    try {
      const response = await fetch(status.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const { run } = await response.json();
        if (!run || run.state !== "running") {
          window.location.reload();
          return;
        }
        message.textContent = run.message;
      }
    } catch (error) {
      // The server is out of reach for a moment: ask again.
    }
    window.setTimeout(follow, 2000);
  };
  window.setTimeout(follow, 2000);
})();
