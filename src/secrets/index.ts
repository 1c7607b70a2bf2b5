export { SecretBox, keyFileFor, parseSecretKey, secretBoxFor } from './secret-box.js';
