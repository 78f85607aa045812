/**
 * Checks real response bodies against the OpenAPI document the server publishes: the JSON schema
 * of that route, method and status. Strict objects in the document (`additionalProperties: false`)
 * make a field the document does not describe fail.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

interface OpenApiDoc {
  paths: Record<string, Record<string, OperationObject>>;
}
interface OperationObject {
  security?: unknown[];
  responses?: Record<string, { content?: Record<string, { schema?: object }> }>;
}

export class OpenApiChecker {
  private readonly ajv: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction>();
  /** `METHOD path status` of every response checked. */
  readonly checked = new Set<string>();

  constructor(readonly doc: OpenApiDoc) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
  }

  operation(method: string, path: string): OperationObject {
    const op = this.doc.paths[path]?.[method.toLowerCase()];
    if (!op) throw new Error(`the OpenAPI document has no ${method} ${path}`);
    return op;
  }

  /** Throws when `body` does not match the document's schema for this response. */
  check(method: string, path: string, status: number, body: unknown): void {
    const key = `${method.toUpperCase()} ${path} ${status}`;
    let validate = this.cache.get(key);
    if (!validate) {
      const response = this.operation(method, path).responses?.[String(status)];
      if (!response) throw new Error(`the OpenAPI document has no ${status} for ${method} ${path}`);
      const schema = response.content?.['application/json']?.schema;
      if (!schema) {
        if (body !== undefined && body !== '')
          throw new Error(`${key}: body where the document describes none`);
        this.checked.add(key);
        return;
      }
      validate = this.ajv.compile(schema);
      this.cache.set(key, validate);
    }
    if (!validate(body)) {
      const why = (validate.errors ?? []).map(
        (e: ErrorObject) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
      );
      throw new Error(
        `${key} does not match the OpenAPI document: ${why.join('; ')}\n${JSON.stringify(body)}`,
      );
    }
    this.checked.add(key);
  }
}
