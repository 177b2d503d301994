// Shortcuts of the item view's panels (the diff, the actions on the wiki),
// which are chunks of their own: each panel binds its actions while it is
// mounted, and keyboard.js hands it those actions (keymap.js says which
// key is which) while an item is open. So the page's first script holds
// this registry, not the panels.

/** Action (`revert-vandalism`, `diff-next`, ..., `Escape`) → handler. */
const bound = new Map();

/**
 * Binds `handlers` (action → function) until the returned function is
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

/** Whether a panel binds `action` now. */
export function itemBinds( action ) {
	return bound.has( action );
}

/**
 * Runs the handler bound to `action` (an action of keymap.js, or
 * `Escape`), if any; true when one ran (for Escape: when it closed
 * something).
 *
 * @param {string} action
 * @param {KeyboardEvent} e
 * @return {boolean}
 */
export function itemKey( action, e ) {
	const fn = action && bound.get( action );
	if ( !fn ) {
		return false;
	}
	if ( action === 'Escape' ) {
		return !!fn( e );
	}
	e.preventDefault();
	fn( e );
	return true;
}
