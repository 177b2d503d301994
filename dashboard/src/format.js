// Small formatters shared by the list and the item view.
import { cdxIconUserAnonymous, cdxIconUserTemporary, cdxIconUserAvatar } from '@wikimedia/codex-icons';
import { t, num } from './i18n.js';

/** Namespaces with a name of their own here; others show their number. */
const NAMESPACES = {
	0: 'main', 1: 'talk', 2: 'user', 3: 'user-talk', 4: 'project', 5: 'project-talk',
	6: 'file', 8: 'mediawiki', 10: 'template', 12: 'help', 14: 'category',
	100: 'portal', 118: 'draft'
};

export function performerIcon( kind ) {
	return kind === 'ip' ? cdxIconUserAnonymous : kind === 'temporary' ? cdxIconUserTemporary : cdxIconUserAvatar;
}

export function performerName( kind ) {
	return t( `patrolchat-performer-${ kind === 'ip' || kind === 'temporary' ? kind : 'account' }` );
}

export function nsName( n ) {
	const key = NAMESPACES[ n ];
	return key ? t( `patrolchat-ns-${ key }` ) : t( 'patrolchat-ns-other', num( n ) );
}

export function kindName( kind ) {
	return [ 'edit', 'new', 'log', 'escalation' ].includes( kind ) ? t( `patrolchat-kind-${ kind }` ) : String( kind );
}

const OUTCOMES = [ 'ok', 'reverted', 'escalated', 'duplicate', 'deleted', 'blocked', 'protected', 'other' ];

export function outcomeName( outcome ) {
	return OUTCOMES.includes( outcome ) ? t( `patrolchat-outcome-${ outcome }` ) : String( outcome || '' );
}

/** A role's name: `reader`, `patroller`, `admin`, `bot`. */
export function roleName( role ) {
	return [ 'reader', 'patroller', 'admin', 'bot' ].includes( role ) ? t( `patrolchat-role-${ role }` ) : String( role || '' );
}

/** The byte change of the whole episode, or null when unknown. */
export function delta( item ) {
	const revs = Array.isArray( item.revisions ) ? item.revisions : [];
	let sum = null;
	for ( const r of revs ) {
		if ( typeof r.byte_delta === 'number' ) {
			sum = ( sum || 0 ) + r.byte_delta;
		}
	}
	return sum;
}

export function signed( n ) {
	if ( n === null || n === undefined ) {
		return '';
	}
	return ( n > 0 ? '+' : n < 0 ? '\u2212' : '' ) + num( Math.abs( n ) );
}

export function deltaClass( n ) {
	if ( n === null || n === 0 ) {
		return 'pc-delta--zero';
	}
	const big = Math.abs( n ) >= 500 ? ' pc-delta--big' : '';
	return ( n > 0 ? 'pc-delta--pos' : 'pc-delta--neg' ) + big;
}

/** A one-line summary: the newest edit summary, or the log action. */
export function summary( item ) {
	const rev = Array.isArray( item.revisions ) && item.revisions[ 0 ];
	if ( rev && rev.comment ) {
		return rev.comment;
	}
	if ( item.log ) {
		return `${ item.log.log_type }/${ item.log.log_action }`;
	}
	return '';
}
