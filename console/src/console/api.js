// The one way the console talks to the server: GraphQL over HTTP on the same origin, with the caller's token.

const TOKEN = 'orderwatch.token';

export const session = {
  get token() { return sessionStorage.getItem(TOKEN); },
  signIn(token) { sessionStorage.setItem(TOKEN, token); },
  signOut() { sessionStorage.removeItem(TOKEN); },
};

export class ApiError extends Error {
  /// `violations`: each broken rule of a validation error, as `{ code, field, message }`.
  constructor(code, message, violations = []) {
    super(message);
    this.code = code;
    this.violations = violations;
  }
}

/// Sends a query. Answers `{ data, withheld }`, where `withheld` holds the paths ("order.protectedPersons.0.contact")
/// of fields the caller's role may not read (`FORBIDDEN_FIELD`); any other error is thrown as an ApiError with the
/// server's code and message.
export async function gql(query, variables = {}, { token = session.token } = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new ApiError('UNAVAILABLE', 'The server could not be reached. Check the connection and try again.');
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError('UNAVAILABLE', `The server answered ${res.status} without a GraphQL body.`);
  }
  const errors = body.errors ?? [];
  const withheld = new Set(errors.filter((e) => e.extensions?.code === 'FORBIDDEN_FIELD').map((e) => (e.path ?? []).join('.')));
  const fatal = errors.find((e) => e.extensions?.code !== 'FORBIDDEN_FIELD');
  if (fatal) throw new ApiError(fatal.extensions?.code ?? 'INTERNAL', fatal.message, fatal.extensions?.violations ?? []);
  return { data: body.data, withheld };
}

export const ALERT_FIELDS = 'id cursor kind severity orderReference createdAt dueAt late lateBy acknowledgedAt acknowledgedBy';
