// Shortcuts of the item view's panels (the diff, the actions on the wiki),
// which are chunks of their own: each panel binds its keys while it is
// mounted, and keyboard.js hands it those keys while an item is open. So
// the page's first script holds this registry, not the panels.

/** Key (`KeyboardEvent.key`) → handler. */
const bound = new Map();

/**
 * Binds `handlers` (key → function) until the returned function is
 * called. An `Escape` handler returns whether it closed something.
 *
 * @param {Object<string, Function>} handlers
 * @return {Function} unbinds them
 */
export function bindItemKeys( handlers ) {
	const entries = Object.entries( handlers );
	for ( const [ key, fn ] of entries ) {
		bound.set( key, fn );
	}
	return () => {
		for ( const [ key, fn ] of entries ) {
			if ( bound.get( key ) === fn ) {
				bound.delete( key );
			}
		}
	};
}

/**
 * Runs the handler bound to the event's key, if any; true when one ran
 * (for Escape: when it closed something).
 *
 * @param {KeyboardEvent} e
 * @return {boolean}
 */
export function itemKey( e ) {
	const fn = bound.get( e.key );
	if ( !fn ) {
		return false;
	}
	if ( e.key === 'Escape' ) {
		return !!fn( e );
	}
	e.preventDefault();
	fn( e );
	return true;
}
