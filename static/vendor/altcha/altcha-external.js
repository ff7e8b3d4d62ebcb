// Local loader (NOT part of the npm package): loads the CSP-friendly "external"
// ALTCHA 3.2.2 build and registers its same-origin proof-of-work workers, so no
// blob:/data: workers and no inline <style> are needed. Use together with
// <link rel="stylesheet" href=".../external/altcha.css">.
import './external/altcha.min.js';

const pbkdf2 = new URL('./workers/pbkdf2.js', import.meta.url).href;
const sha = new URL('./workers/sha.js', import.meta.url).href;
for (const alg of ['PBKDF2/SHA-256', 'PBKDF2/SHA-384', 'PBKDF2/SHA-512']) {
  globalThis.$altcha.algorithms.set(alg, () => new Worker(pbkdf2));
}
for (const alg of ['SHA-256', 'SHA-384', 'SHA-512']) {
  globalThis.$altcha.algorithms.set(alg, () => new Worker(sha));
}
