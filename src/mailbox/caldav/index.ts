export { DavClient, DavError, hrefIn, parseMultistatus, propKey, type DavClientOptions, type DavErrorKind, type DavResource, type DavResponse } from './dav-client.js';
export { discoverCalendars, type DiscoverInput, type Discovery, type DiscoveredCalendar } from './discover.js';
export { Limiter, limiterFor } from './limiter.js';
export { NS, parseXml, type XmlElement } from './xml.js';
