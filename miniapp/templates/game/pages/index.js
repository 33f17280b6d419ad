// A 30-second tapping game on a canvas: plain browser APIs plus the SDK
// for the best score and toasts.
(async function () {
  const g = window.game;
  const canvas = document.getElementById('board');
  const ctx = canvas.getContext('2d');
  const $ = (id) => document.getElementById(id);
  let dots = [], score = 0, ends = 0, best = await g.best();
  $('best').textContent = best;

  function resize() {
    canvas.width = innerWidth * devicePixelRatio;
    canvas.height = innerHeight * devicePixelRatio;
    ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
  }
  addEventListener('resize', resize);
  resize();

  function spawn(now) {
    const r = 18 + Math.random() * 22;
    dots.push({ x: r + Math.random() * (innerWidth - 2 * r), y: 60 + r + Math.random() * (innerHeight - 80 - 2 * r), r, born: now });
  }

  function frame(now) {
    if (now > ends) return finish();
    if (Math.random() < 0.05 || dots.length === 0) spawn(now);
    dots = dots.filter((d) => now - d.born < 1600);
    ctx.clearRect(0, 0, innerWidth, innerHeight);
    for (const d of dots) {
      ctx.globalAlpha = 1 - (now - d.born) / 1600;
      ctx.fillStyle = '#7cf29c';
      ctx.beginPath();
      ctx.arc(d.x, d.y, d.r, 0, Math.PI * 2);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    $('time').textContent = Math.ceil((ends - now) / 1000);
    requestAnimationFrame(frame);
  }

  canvas.addEventListener('pointerdown', (e) => {
    const hit = dots.findIndex((d) => Math.hypot(d.x - e.clientX, d.y - e.clientY) <= d.r);
    if (hit < 0) return;
    dots.splice(hit, 1);
    $('score').textContent = ++score;
  });

  async function finish() {
    $('start').hidden = false;
    if (score > best) {
      best = score;
      $('best').textContent = best;
      await g.saveBest(best);
      g.toast('New best score: ' + best);
    }
  }

  $('start').addEventListener('click', () => {
    $('start').hidden = true;
    score = 0;
    dots = [];
    $('score').textContent = 0;
    ends = performance.now() + 30000;
    requestAnimationFrame(frame);
  });
})();
