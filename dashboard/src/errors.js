// What a failed request says to the person.
import { ApiError } from './api.js';
import { t, timeOfDay } from './i18n.js';

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
		case 'forbidden': return t( 'patrolchat-error-forbidden', err.message || '' );
		case 'unauthenticated': return t( 'patrolchat-error-signed-out' );
		case 'csrf': return t( 'patrolchat-error-csrf' );
		case 'wiki_refused': return t( 'patrolchat-error-wiki-refused', err.message || '' );
		case 'wiki_unavailable': return t( 'patrolchat-error-wiki-unavailable' );
		case 'muted': {
			const msg = String( err.message || '' );
			const cut = msg.indexOf( ': ' );
			const why = err.reason || ( cut !== -1 ? msg.slice( cut + 2 ) : msg );
			return err.until ?
				t( 'patrolchat-error-muted-until', timeOfDay( err.until ), why ) :
				t( 'patrolchat-error-muted', why );
		}
		case 'blocked':
			if ( !err.reason ) {
				return t( 'patrolchat-error-blocked-unknown' );
			}
			return err.until ?
				t( 'patrolchat-error-blocked-until', timeOfDay( err.until ), err.reason ) :
				t( 'patrolchat-error-blocked', err.reason );
		case 'unavailable':
		case 'timeout':
			return t( 'patrolchat-error-unavailable' );
		default:
			return t( 'patrolchat-error-generic', err.message || e.message );
	}
}
