export { readXml, parseXmlBody, xmlBodyAs, isXmlType, XML_TYPES } from './read.js';
export { writeXml } from './write.js';
