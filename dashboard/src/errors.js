// What a failed request says to the person.
import { ApiError } from './api.js';
import { t, timeOfDay, num, list, hasMessage } from './i18n.js';

const ROLES = [ 'reader', 'patroller', 'admin' ];

/**
 * A block's or mute's message, by where it holds: on one wiki (`<base>-on`,
 * the wiki's name first), everywhere (`wiki` `*`, `<base>-everywhere`), or
 * where the api did not say (`<base>`); then `suffix`.
 */
function placed( base, suffix, err, ...params ) {
	if ( err.wiki === '*' ) {
		return t( `${ base }-everywhere${ suffix }`, ...params );
	}
	if ( typeof err.wiki === 'string' && err.wiki ) {
		return t( `${ base }-on${ suffix }`, err.wiki, ...params );
	}
	return t( `${ base }${ suffix }`, ...params );
}

/** A person-readable text for a failed request. */
export function errorText( e ) {
	if ( !( e instanceof ApiError ) ) {
		return t( 'patrolchat-error-generic', String( e && e.message || e ) );
	}
	const err = ( e.body && e.body.error ) || {};
	switch ( e.code ) {
		case 'claimed': {
			const holder = err.holder || ( e.body && e.body.holder ) || '?';
			return err.expires_at ?
				t( 'patrolchat-claimed-by-until', holder, timeOfDay( err.expires_at ) ) :
				t( 'patrolchat-claimed-by', holder );
		}
		case 'network': return t( 'patrolchat-error-network' );
		case 'rate_limited': return t( 'patrolchat-error-rate-limited', err.retry_after_s || 1 );
		case 'unauthenticated': return t( 'patrolchat-error-signed-out' );
		case 'csrf': return t( 'patrolchat-error-csrf' );
		case 'wiki_refused': return t( 'patrolchat-error-wiki-refused', err.message || '' );
		case 'wiki_unavailable': return t( 'patrolchat-error-wiki-unavailable' );
		case 'forbidden':
			return err.needs && err.wiki ?
				t( 'patrolchat-needs-role-on', t( `patrolchat-role-${ ROLES.includes( err.needs ) ? err.needs : 'patroller' }` ), err.wiki ) :
				t( 'patrolchat-error-code-forbidden' );
		case 'conduct_required':
			return t( 'patrolchat-error-conduct', err.wiki || '?' );
		case 'muted': {
			const msg = String( err.message || '' );
			const cut = msg.indexOf( ': ' );
			const why = err.reason || ( cut !== -1 ? msg.slice( cut + 2 ) : msg );
			return err.until ?
				placed( 'patrolchat-error-muted', '-until', err, timeOfDay( err.until ), why ) :
				placed( 'patrolchat-error-muted', '', err, why );
		}
		case 'blocked':
			if ( !err.reason ) {
				return placed( 'patrolchat-error-blocked', '-unknown', err );
			}
			return err.until ?
				placed( 'patrolchat-error-blocked', '-until', err, timeOfDay( err.until ), err.reason ) :
				placed( 'patrolchat-error-blocked', '', err, err.reason );
		case 'unavailable':
		case 'timeout':
			return t( 'patrolchat-error-unavailable' );
		case 'unknown_user':
			return t( 'patrolchat-error-code-unknown-user', list( Array.isArray( err.users ) ? err.users.map( String ) : [] ) );
		case 'too_many_open':
			return t( 'patrolchat-error-code-too-many-open', num( err.max || 0 ), num( err.retry_after_s || 1 ) );
		case 'limit_reached':
			return t( 'patrolchat-error-code-limit-reached', num( err.max || 0 ) );
		default: {
			// Every other code has a sentence of its own; the api's English
			// `message` is for logs and bots, never shown.
			const key = `patrolchat-error-code-${ String( e.code || '' ).replace( /_/g, '-' ) }`;
			// Where the api names the person involved (who is acting, who
			// reverted or edited since, who blocked), the sentence names them.
			if ( e.code && typeof err.by === 'string' && err.by && hasMessage( `${ key }-by` ) ) {
				return t( `${ key }-by`, err.by );
			}
			return e.code && hasMessage( key ) ? t( key ) : t( 'patrolchat-error-generic', String( e.code || e.status ) );
		}
	}
}
