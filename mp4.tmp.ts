Bun.gc(true);
const r0 = process.memoryUsage().rss;
const m = require(process.argv[2]);
Bun.gc(true);
const r1 = process.memoryUsage().rss;
console.log(process.argv[2], ((r1-r0)/1e6).toFixed(1));
