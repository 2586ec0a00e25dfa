/** etcd 3.4's v3 JSON gateway (grpc-gateway) over a member. */
export { createGatewayHandler, gatewayErrorBody, httpStatusOfGrpcCode, type GatewayHandlerOptions } from './gateway-handler.js';
export { buildGatewayRoutes, type GatewayRoute } from './gateway-routes.js';
export { JsonMappingError, messageFromJson, messageToJson } from './json-mapper.js';
