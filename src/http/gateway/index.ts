/** etcd 3.4's v3 JSON gateway (grpc-gateway) over a member. */
export { createGatewayHandler, type GatewayHandlerOptions } from './gateway-handler.js';
export { gatewayErrorBody, httpStatusOfGrpcCode } from './grpc-http-status.js';
export { buildGatewayRoutes, type GatewayAuthService, type GatewayRoute } from './gateway-routes.js';
export { JsonMappingError, messageFromJson, messageToJson } from './json-mapper.js';
