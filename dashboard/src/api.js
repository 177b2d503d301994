// HTTP calls to the api: JSON in and out, the session cookie, and the CSRF
// token on every write.

let csrf = null;
let onUnauthorized = () => {};

/** Remembers the CSRF token from `GET /api/v1/me`. */
export function setCsrf( token ) {
	csrf = token || null;
}

/** Called when a request answers 401 (the session ended). */
export function setUnauthorizedHandler( fn ) {
	onUnauthorized = fn;
}

/** A failed request: `status` 0 when the network failed. */
export class ApiError extends Error {
	constructor( status, body, message ) {
		super( message || ( body && body.error && body.error.message ) || `HTTP ${ status }` );
		this.status = status;
		this.body = body || null;
		this.code = ( body && body.error && body.error.code ) || ( status === 0 ? 'network' : 'http' );
	}
}

/**
 * One request.
 *
 * @param {string} method
 * @param {string} path
 * @param {Object} [body] sent as JSON
 * @param {{quiet401?: boolean}} [opts]
 * @return {Promise<any>} the parsed answer (null when empty)
 */
export async function api( method, path, body, opts = {} ) {
	const headers = { Accept: 'application/json' };
	if ( body !== undefined ) {
		headers[ 'Content-Type' ] = 'application/json';
	}
	if ( method !== 'GET' && method !== 'HEAD' && csrf ) {
		headers[ 'X-CSRF-Token' ] = csrf;
	}
	let res;
	try {
		res = await fetch( path, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify( body ),
			credentials: 'same-origin',
			cache: 'no-store'
		} );
	} catch ( e ) {
		throw new ApiError( 0, null, String( e && e.message || e ) );
	}
	const text = await res.text().catch( () => '' );
	let data = null;
	if ( text ) {
		try {
			data = JSON.parse( text );
		} catch {
			data = null;
		}
	}
	if ( !res.ok ) {
		if ( res.status === 401 && !opts.quiet401 ) {
			onUnauthorized();
		}
		throw new ApiError( res.status, data );
	}
	return data;
}

/** `encodeURIComponent` for path segments. */
export const seg = encodeURIComponent;
