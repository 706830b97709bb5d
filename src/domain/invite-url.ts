/**
 * The invite URL of a trigger run, built from the trigger's `flow.url` template.
 * Placeholders: `{userId}` `{runId}` `{flowId}` `{triggerId}` `{environment}`, each replaced
 * (every occurrence) by its URL-encoded value (`encodeURIComponent`), so a userId like
 * `a&b=c` cannot inject query parameters. Other braces are left as they are.
 */

export interface InviteUrlValues {
  userId: string;
  runId: string;
  flowId: string;
  triggerId: string;
  environment: string;
}

const PLACEHOLDER = /\{(userId|runId|flowId|triggerId|environment)\}/g;

export function buildInviteUrl(template: string, values: InviteUrlValues): string {
  return template.replace(PLACEHOLDER, (_match, name: keyof InviteUrlValues) => encodeURIComponent(values[name]));
}
