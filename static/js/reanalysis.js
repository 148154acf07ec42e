// Follows a reanalysis going on in the background on the project page: its progress every
// two seconds, and the page again once its state changes (asked to stop, or ended).
(() => {
  const status = document.getElementById("reanalysis-status");
  if (!status || status.dataset.goingOn !== "yes") return;
  const message = document.getElementById("reanalysis-message");
  const follow = async () => {
    try {
      const response = await fetch(status.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const { run } = await response.json();
        if (!run || run.state !== status.dataset.state) {
          // Ended, or asked to stop: the page shows it (the buttons back, or Cancel disabled).
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
