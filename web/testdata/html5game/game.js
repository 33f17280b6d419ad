// Star Catcher: a plain HTML5 canvas game, written with no knowledge of
// OpenMini. Move with the arrow keys (or tap the sides); touching the star
// scores a point and puts the next star further along.
(function () {
  var canvas = document.getElementById('game');
  var ctx = canvas.getContext('2d');
  var scoreEl = document.getElementById('score');
  var W = canvas.width, H = canvas.height;
  var player = { x: 40, y: H - 40, size: 24 };
  var stars = [100, 300, 180, 420, 60, 260];
  var next = 0;
  var star = { x: stars[0], y: H - 40, r: 10 };
  var score = 0;

  function draw() {
    ctx.fillStyle = '#173d28';
    ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = '#ffd54f';
    ctx.beginPath();
    ctx.arc(star.x, star.y, star.r, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = '#4fc3f7';
    ctx.fillRect(player.x - player.size / 2, player.y - player.size / 2, player.size, player.size);
  }

  function move(dx) {
    player.x = Math.max(player.size / 2, Math.min(W - player.size / 2, player.x + dx));
    if (Math.abs(player.x - star.x) < player.size / 2 + star.r) {
      score++;
      scoreEl.textContent = String(score);
      next = (next + 1) % stars.length;
      star.x = stars[next];
    }
    draw();
  }

  window.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowRight') { move(20); e.preventDefault(); }
    if (e.key === 'ArrowLeft') { move(-20); e.preventDefault(); }
  });
  canvas.addEventListener('pointerdown', function (e) {
    var r = canvas.getBoundingClientRect();
    move(e.clientX - r.left < r.width / 2 ? -20 : 20);
  });
  draw();
})();
