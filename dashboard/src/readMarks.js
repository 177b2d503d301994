// How far a person has read each item's thread: the sequence number of the
// newest message they had on screen, kept in localStorage per person, so
// that the list can say which discussions have messages they have not seen.

import { ref } from 'vue';

const PREFIX = 'patrolchat.read.';

/** Raised at every new mark, so that what shows unread is read again. */
export const readVersion = ref( 0 );
/** Items remembered per person; the least recently read go first. */
const MAX_ITEMS = 2000;

const cache = new Map(); // person → Map(item id → seq)

function marksOf( person ) {
	let m = cache.get( person );
	if ( m ) {
		return m;
	}
	m = new Map();
	try {
		const raw = JSON.parse( localStorage.getItem( PREFIX + person ) || '{}' );
		for ( const [ id, seq ] of Object.entries( raw && typeof raw === 'object' ? raw : {} ) ) {
			if ( Number.isInteger( seq ) && seq > 0 ) {
				m.set( id, seq );
			}
		}
	} catch {
		// Unreadable: start again.
	}
	cache.set( person, m );
	return m;
}

/** The newest message of item `id`'s thread `person` has seen (0: none). */
export function readUpTo( person, id ) {
	return person ? marksOf( person ).get( id ) || 0 : 0;
}

/** Records that `person` has seen item `id`'s thread up to message `seq`. */
export function markRead( person, id, seq ) {
	if ( !person || !id || !Number.isInteger( seq ) || seq <= readUpTo( person, id ) ) {
		return false;
	}
	const m = marksOf( person );
	m.delete( id );
	m.set( id, seq );
	while ( m.size > MAX_ITEMS ) {
		m.delete( m.keys().next().value );
	}
	readVersion.value++;
	try {
		localStorage.setItem( PREFIX + person, JSON.stringify( Object.fromEntries( m ) ) );
	} catch {
		// Storage full or refused: remembered for this page only.
	}
	return true;
}

/** Forgets the in-memory copies (tests, sign-out). */
export function forgetReadMarks() {
	cache.clear();
}
