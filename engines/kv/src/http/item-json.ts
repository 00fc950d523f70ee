// The JSON shape of item metadata (DESIGN §4 list answer).
import type { ItemMeta } from '../store/kv-store.js';
import { etagOf } from './preconditions.js';

export interface ItemMetaJson {
  key: string;
  version: number;
  etag: string;
  size: number;
  content_type: string;
  expires_at: string | null;
}

export function expiresAtText(expiresAt: number | null): string | null {
  return expiresAt === null ? null : new Date(expiresAt).toISOString();
}

export function itemMetaJson(meta: ItemMeta): ItemMetaJson {
  return {
    key: meta.key,
    version: meta.version,
    etag: etagOf(meta.version),
    size: meta.size,
    content_type: meta.contentType,
    expires_at: expiresAtText(meta.expiresAt),
  };
}
