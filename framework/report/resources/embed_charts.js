// Renders every chart of the lenetlab report: the Vega-Lite specs in the JSON script element
// "lenetlab-charts", keyed by the id of the element each one draws into (report/html_view.cpp).
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
})();
