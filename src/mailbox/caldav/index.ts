export { DavClient, DavError, parseMultistatus } from './dav-client.js';
export { discoverCalendars, type Discovery } from './discover.js';
export { limiterFor } from './limiter.js';
export { NS } from './xml.js';
