export { SecretBox, keyFileFor, parseSecretKey, readOrCreateKeyFile, secretBoxFor } from './secret-box.js';
