// Renders every chart of the lenetlab report: the Vega-Lite specs in the JSON script element
// "lenetlab-charts", keyed by the id of the element each one draws into (report/html_view.cpp).
// Then makes every table of class "sortable" sortable by a click on a column header (again: the
// other direction); cells compare as numbers when both start with one ("98.21%", "1,234"), else
// as text. A <select data-show="ID"> shows the child of element ID whose data-key is its value
// and hides the others; a <select data-filter="ID"> hides the table rows inside element ID whose
// data-key differs from its value (an empty value shows every row).
(function () {
  var specs = JSON.parse(document.getElementById('lenetlab-charts').textContent);
  Object.keys(specs).forEach(function (id) {
    var target = document.getElementById(id);
    if (typeof vegaEmbed !== 'function') {
      target.textContent = 'Charts unavailable: the Vega-Lite libraries did not load.';
      target.className += ' chart-error';
      return;
    }
    vegaEmbed(target, specs[id], {actions: false, renderer: 'svg', mode: 'vega-lite'})
      .catch(function (error) {
        target.textContent = 'Chart failed to render: ' + error;
        target.className += ' chart-error';
      });
  });

  function key(cell) {
    var text = (cell.getAttribute('data-sort') || cell.textContent).trim();
    var number = parseFloat(text.replace(/,/g, '').replace(/^[^0-9.+-]+/, ''));
    return {text: text, number: number};
  }
  function compare(a, b) {
    if (!isNaN(a.number) && !isNaN(b.number)) return a.number - b.number;
    if (!isNaN(a.number) !== !isNaN(b.number)) return isNaN(a.number) ? 1 : -1;
    return a.text.localeCompare(b.text);
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var body = table.tBodies[0];
    if (!body || !table.tHead) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      th.className += ' sort-header';
      th.title = (th.title ? th.title + ' ' : '') + '(click to sort)';
      th.addEventListener('click', function () {
        var descending = th.getAttribute('aria-sort') === 'ascending';
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) {
          other.removeAttribute('aria-sort');
        });
        th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var order = compare(key(a.cells[column]), key(b.cells[column]));
          return descending ? -order : order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  function bind(attribute, apply) {
    Array.prototype.forEach.call(document.querySelectorAll('select[' + attribute + ']'),
      function (select) {
        var target = document.getElementById(select.getAttribute(attribute));
        if (!target) return;
        select.addEventListener('change', function () { apply(target, select.value); });
        apply(target, select.value);
      });
  }
  bind('data-show', function (target, value) {
    Array.prototype.forEach.call(target.children, function (child) {
      if (child.hasAttribute('data-key')) child.hidden = child.getAttribute('data-key') !== value;
    });
  });
  bind('data-filter', function (target, value) {
    Array.prototype.forEach.call(target.querySelectorAll('tr[data-key]'), function (row) {
      row.hidden = value !== '' && row.getAttribute('data-key') !== value;
    });
  });
})();
