// The menu. A real shop would load it from its own server (add the domain to
// the app's network allow-list on the platform).
window.PRODUCTS = [
  { id: 'tea', name: 'Jasmine tea', cents: 1200 },
  { id: 'noodles', name: 'Beef noodles', cents: 3800 },
  { id: 'dumplings', name: 'Pork dumplings (12)', cents: 2600 },
  { id: 'bun', name: 'Steamed bun', cents: 600 },
];
