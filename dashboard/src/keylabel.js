// What a person sees for a key of keymap.js (`KeyJ` → `j`): used by the
// views that show keys (the item view, its panels, the shortcuts dialog),
// so it stays out of the page's first script.

const NAMES = {
	Slash: '/', 'Shift+Slash': '?', Period: '.', Comma: ',', Semicolon: ';', Quote: '\'',
	BracketLeft: '[', BracketRight: ']', Backslash: '\\', Minus: '-', Equal: '=', Backquote: '`'
};

/** What a person sees for a key: `j`, `?`, `Shift+j`. */
export function keyLabel( combo ) {
	if ( !combo ) {
		return '';
	}
	if ( NAMES[ combo ] ) {
		return NAMES[ combo ];
	}
	const shift = combo.startsWith( 'Shift+' );
	const code = shift ? combo.slice( 6 ) : combo;
	const m = /^(?:Key|Digit|Numpad)(.+)$/.exec( code );
	const base = m ? m[ 1 ].toLowerCase() : ( NAMES[ code ] || code );
	return shift ? `Shift+${ base }` : base;
}
