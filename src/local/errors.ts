/**
 * Errors the local platform answers with, in CML's wire shape (`runtimeError {error, code, message}`, where
 * `code` is the gRPC status code that gRPC-gateway maps to the HTTP status; openapi/FACTS.md §4 "Errors").
 */
import type { Schemas } from "../client/index.js";

const GRPC_CODE_BY_STATUS: Readonly<Record<number, number>> = {
  400: 3, // InvalidArgument
  401: 16, // Unauthenticated
  403: 7, // PermissionDenied
  404: 5, // NotFound
  409: 6, // AlreadyExists
  412: 9, // FailedPrecondition
  429: 8, // ResourceExhausted
  500: 13, // Internal
  501: 12, // Unimplemented
  503: 14, // Unavailable
};

export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, message);
export const notFound = (message: string): HttpError => new HttpError(404, message);
export const conflict = (message: string): HttpError => new HttpError(409, message);

export function errorBody(status: number, message: string): Schemas["runtimeError"] {
  return { error: message, code: GRPC_CODE_BY_STATUS[status] ?? 2, message, details: [] };
}

export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): Response {
  return Response.json(errorBody(status, message), { status, headers });
}
