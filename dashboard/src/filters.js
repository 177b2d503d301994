// The item list's filters: what they are, how they read from and write to
// the URL's query (so a filtered list can be shared), how a person's last
// choice is kept (localStorage, per person), and which rows they keep.
//
// The list holds every open item of the workflow and follows it live, so
// the filters run here, on the rows it holds: a new, claimed or resolved
// item is shown or hidden by the same rule at once, and changing a filter
// costs no request.

import { delta } from './format.js';

/** The filters when none is chosen. */
export const DEFAULT_FILTERS = Object.freeze( {
	wiki: '',
	namespace: '',
	performer: '',
	hideClaimed: false,
	minScore: '',
	maxScore: '',
	minBytes: '',
	maxBytes: '',
	sort: 'priority'
} );

/** Orders of the list: most urgent first, newest first, oldest first. */
export const SORTS = [ 'priority', 'newest', 'oldest' ];

const PERFORMERS = [ 'ip', 'temporary', 'account' ];

/** Query parameter of each filter. */
const PARAM = {
	wiki: 'wiki',
	namespace: 'ns',
	performer: 'user',
	hideClaimed: 'hide_claimed',
	minScore: 'min_score',
	maxScore: 'max_score',
	minBytes: 'min_bytes',
	maxBytes: 'max_bytes',
	sort: 'sort'
};

/** The query parameters the filters use. */
export const FILTER_PARAMS = Object.values( PARAM );

const WIKI_RE = /^[a-z0-9_]{1,64}$/;
const INT_RE = /^-?\d{1,12}$/;
const NUM_RE = /^-?\d{1,9}(\.\d{1,6})?$/;

function one( v ) {
	return Array.isArray( v ) ? v[ 0 ] : v;
}

/** A filter's value as the rules read it, or its default when not valid. */
function clean( key, raw ) {
	const v = raw === undefined || raw === null ? '' : String( raw ).trim();
	switch ( key ) {
		case 'wiki': return WIKI_RE.test( v ) ? v : '';
		case 'namespace': return INT_RE.test( v ) ? String( Number( v ) ) : '';
		case 'performer': return PERFORMERS.includes( v ) ? v : '';
		case 'hideClaimed': return raw === true || v === '1' || v === 'true';
		case 'minScore':
		case 'maxScore': return NUM_RE.test( v ) ? v : '';
		case 'minBytes':
		case 'maxBytes': return INT_RE.test( v ) ? String( Number( v ) ) : '';
		case 'sort': return SORTS.includes( v ) ? v : 'priority';
	}
	return '';
}

/** Filters from any object of the filters' shape (a saved choice); bad values are dropped. */
export function cleanFilters( f ) {
	const out = {};
	for ( const key of Object.keys( DEFAULT_FILTERS ) ) {
		out[ key ] = clean( key, f ? f[ key ] : undefined );
	}
	return out;
}

/** Whether a URL query names any filter. */
export function hasFilterParams( query ) {
	return FILTER_PARAMS.some( ( p ) => Object.prototype.hasOwnProperty.call( query || {}, p ) );
}

/** Filters from a URL query; parameters it lacks are at their defaults. */
export function filtersFromQuery( query ) {
	const out = {};
	for ( const [ key, param ] of Object.entries( PARAM ) ) {
		out[ key ] = clean( key, one( ( query || {} )[ param ] ) );
	}
	return out;
}

/** The query parameters of filters: only those not at their default. */
export function queryOfFilters( f ) {
	const c = cleanFilters( f );
	const q = {};
	for ( const [ key, param ] of Object.entries( PARAM ) ) {
		if ( c[ key ] !== DEFAULT_FILTERS[ key ] ) {
			q[ param ] = key === 'hideClaimed' ? '1' : c[ key ];
		}
	}
	return q;
}

/** `query` with its filter parameters replaced by those of `f`. */
export function withFilters( query, f ) {
	const q = {};
	for ( const [ k, v ] of Object.entries( query || {} ) ) {
		if ( !FILTER_PARAMS.includes( k ) ) {
			q[ k ] = v;
		}
	}
	return { ...q, ...queryOfFilters( f ) };
}

/** Whether two queries name the same filters. */
export function sameFilters( a, b ) {
	const qa = queryOfFilters( a );
	const qb = queryOfFilters( b );
	const ka = Object.keys( qa );
	return ka.length === Object.keys( qb ).length && ka.every( ( k ) => qa[ k ] === qb[ k ] );
}

/** Whether any filter is chosen (the order aside). */
export function isFiltering( f ) {
	return Object.keys( DEFAULT_FILTERS ).some( ( k ) => k !== 'sort' && f[ k ] !== DEFAULT_FILTERS[ k ] );
}

const num = ( s ) => ( s === '' ? null : Number( s ) );

/**
 * The rule of the filters, for one row of the list: wiki, namespace, kind
 * of user, claimed by someone else or not (the person's own claims stay in
 * view), priority (`item.priority`) and size (the episode's byte change)
 * within their ranges, both ends included. An item whose size is unknown
 * (a log entry) passes only when no size is asked.
 *
 * @param {Object} f filters (cleanFilters)
 * @param {string|null} [me] the person's name
 * @return {function(Object): boolean}
 */
export function rowFilter( f, me = null ) {
	const minScore = num( f.minScore );
	const maxScore = num( f.maxScore );
	const minBytes = num( f.minBytes );
	const maxBytes = num( f.maxBytes );
	return ( r ) => {
		const item = r.item;
		if ( f.wiki && item.wiki !== f.wiki ) {
			return false;
		}
		if ( f.namespace !== '' && String( item.namespace ) !== f.namespace ) {
			return false;
		}
		if ( f.performer && item.performer !== f.performer ) {
			return false;
		}
		if ( f.hideClaimed && r.claim && r.claim.holder !== me ) {
			return false;
		}
		if ( minScore !== null || maxScore !== null ) {
			const p = Number( item.priority ) || 0;
			if ( ( minScore !== null && p < minScore ) || ( maxScore !== null && p > maxScore ) ) {
				return false;
			}
		}
		if ( minBytes !== null || maxBytes !== null ) {
			const d = delta( item );
			if ( d === null || ( minBytes !== null && d < minBytes ) || ( maxBytes !== null && d > maxBytes ) ) {
				return false;
			}
		}
		return true;
	};
}

/**
 * The rows the list shows: those the filters keep, in the chosen order
 * (`priority` keeps the queue's order, as the rows come).
 *
 * @param {Array<Object>} rows in queue order
 * @param {Object} f filters
 * @param {string|null} [me] the person's name
 * @return {Array<Object>}
 */
export function applyFilters( rows, f, me = null ) {
	const kept = isFiltering( f ) ? rows.filter( rowFilter( f, me ) ) : rows;
	if ( f.sort === 'newest' || f.sort === 'oldest' ) {
		const sign = f.sort === 'newest' ? -1 : 1;
		return ( kept === rows ? rows.slice() : kept ).sort( ( a, b ) =>
			sign * ( ( Number( a.item.created_at ) || 0 ) - ( Number( b.item.created_at ) || 0 ) ) ||
			( a.id < b.id ? -1 : a.id > b.id ? 1 : 0 ) );
	}
	return kept;
}

const STORE_PREFIX = 'patrolchat.filters.';

/** The filters this person chose last, or null. */
export function savedFilters( person ) {
	if ( !person ) {
		return null;
	}
	try {
		const raw = localStorage.getItem( STORE_PREFIX + person );
		return raw ? cleanFilters( JSON.parse( raw ) ) : null;
	} catch {
		return null;
	}
}

/** Keeps this person's choice for their next visit. */
export function saveFilters( person, f ) {
	if ( !person ) {
		return;
	}
	try {
		localStorage.setItem( STORE_PREFIX + person, JSON.stringify( cleanFilters( f ) ) );
	} catch {
		// Storage full or refused: the URL still carries the filters.
	}
}
